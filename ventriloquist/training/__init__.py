"""Workstation-side training: corpus preparation, clustering, the network, export and evaluation."""
