"""The run loop: blocks of paths costed on worker processes, folded into a tally
(counts, sums, histograms) that merges the same whatever the order. The engine knows
nothing of decisions or reports."""
