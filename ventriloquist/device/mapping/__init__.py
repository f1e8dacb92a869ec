"""FAP frames re-expressed in other conventions: ARKit blendshapes, MPEG-4 visemes, Rhubarb mouth shapes."""
