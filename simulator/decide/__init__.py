"""From costed paths to a decision (no I/O): the summary, the recommendation and value
of information, the stress test and break-even volumes, sensitivity, and the trigger
search of staged policies."""
