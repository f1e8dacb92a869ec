"""Host side of the servo link: FAPs -> servo pulses -> Pololu Maestro or our own firmware."""
