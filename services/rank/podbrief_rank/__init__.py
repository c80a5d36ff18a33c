"""podbrief's rank service: transcripts in, insights out; embeddings, same-idea clusters and related insights."""
