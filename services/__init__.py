"""Drafter's gRPC services: accounts, chat and images, each started by its ``main.serve``."""
