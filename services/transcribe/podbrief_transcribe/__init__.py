"""podbrief's transcribe service: episodes in, timed transcripts out."""
