"""One module per `ventriloquist` sub-command: add_arguments(parser) and run(args)."""
