"""Training-side `ventriloquist` sub-commands (train, evaluate, export); each imports TensorFlow only inside run."""
