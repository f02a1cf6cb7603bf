"""The Streamlit workspace for underwriters (`assistant ui`): pages over the same application core as the CLI."""
