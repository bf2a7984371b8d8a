"""Sizing a run before it starts: the machine's room, a timed pilot and a memory
model, so that a run that cannot fit is refused with what would."""
