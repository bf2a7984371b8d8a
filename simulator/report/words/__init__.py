"""Words for people, generated from a run's numbers (pure functions, no I/O).

:mod:`.audit` says how sure a run is (shares of paths, Monte Carlo cautions, the table
of uncertain inputs); :mod:`.stress` what the stress test, break-even volume and
sensitivity analysis find; :mod:`.verdict` the decision and the verdict at the top of
a report, which end with the stress test's findings.

Labels and other scenario text may hold anything: every sentence these functions
return has its control and bidirectional characters replaced by visible escapes
(:func:`~simulator.scenario.text.printable`), so it is safe on a terminal as it is, and
the pages escape it further as HTML or Markdown.
"""

from .audit import (
    MEAN_SE_LIMIT,
    P_CHEAPER_SE_LIMIT,
    InputRow,
    cautions,
    input_rows,
    paths_share,
)
from .stress import (
    breakeven_reason,
    breakeven_sentence,
    breakeven_sentences,
    sensitivity_rivals,
    sensitivity_sentence,
    stress_rivals,
    stress_sentence,
)
from .verdict import SURE, decision_paragraphs, policy_sentence, value_sentence, verdict

__all__ = [
    "InputRow",
    "MEAN_SE_LIMIT",
    "P_CHEAPER_SE_LIMIT",
    "SURE",
    "breakeven_reason",
    "breakeven_sentence",
    "breakeven_sentences",
    "cautions",
    "decision_paragraphs",
    "input_rows",
    "paths_share",
    "policy_sentence",
    "sensitivity_rivals",
    "sensitivity_sentence",
    "stress_rivals",
    "stress_sentence",
    "value_sentence",
    "verdict",
]
