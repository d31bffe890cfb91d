"""Certainty of evidence for one analysis: GRADE, absolute effects, a hypothetical trial.

``clinical`` (numbers needed to treat, control and treated risks from a bundle),
``grade`` (GRADE suggestions per domain, certainty, summary of findings) and
``what_if_trial`` (a hypothetical new trial added to the current analysis).
"""
