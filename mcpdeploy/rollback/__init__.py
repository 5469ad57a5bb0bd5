"""The way back: Worker rollback to an earlier version, undo of a provision run, and the auth switch that turns
the Worker's key check off for a while and back on by itself."""
