-- One database per service: each service owns its store (DESIGN.md).
CREATE DATABASE ingest;
CREATE DATABASE transcribe;
CREATE DATABASE rank;
CREATE DATABASE notify;
