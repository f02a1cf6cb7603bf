"""The index: files -> documents -> chunks -> embeddings -> store, and retrieval over it.

Never imports `assistant`. Heavy libraries (faiss, torch, sentence-transformers,
llama-index) are imported inside the functions that need them.
"""
