"""Summaries: placeholder until the core lands."""

import streamlit as st

st.title("Summaries")
