"""The pages of the UI: scripts that `ui/app.py` runs through `st.navigation` (never imported)."""
