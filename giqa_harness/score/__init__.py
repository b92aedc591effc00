"""Score-based IQA and multiple-choice quality questions (docs/score.md).

A task with a ``scoring`` block is run here instead of through the grounding metrics: level scoring
(Q-Align's expected level, Q-Bench's good/poor) is compared with mean opinion scores by SRCC, PLCC
and KRCC; multiple-choice questions (Q-Bench A1's layout) are scored by accuracy overall, by type and
by concern. Answers come from choice likelihoods when the adapter can give them, else from generation,
and every result says which.
"""
