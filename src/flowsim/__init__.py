"""flowsim: simulate patient flow through an urgent-care and frailty system."""

__version__ = "0.1.0"
