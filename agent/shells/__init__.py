"""The shells: thin layers that wire a run to a command line, a loop, a Lambda or an HTTP port."""
