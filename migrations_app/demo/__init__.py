"""The demo in one place: the stand-in provider (provider), its control card on the demo migrations'
pages (card), the demo's monitoring (monitoring) and the data `make run` seeds (seed)."""
