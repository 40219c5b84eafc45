"""SYNTHETIC raw exports reconstructed from published figures and stated assumptions.

`core` holds the machinery every wave's generator shares; `dk` (dk_2024, a SurveyXact CSV) and
`no` (no_2010, a QuestBack SPSS .sav) are the waves' generators. One CLI serves both:
`python -m smesocial.synthetic --params config/synthetic/<wave>.yaml --out <file>`.
"""
