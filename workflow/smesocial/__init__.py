"""smesocial: survey exports on how Danish and Norwegian firms use social media -> an audited paper.

Pure, typed functions; the Snakemake rules call them through thin scripts in workflow/scripts/.
"""

__version__ = "0.1.0"
