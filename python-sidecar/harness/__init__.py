"""What the sidecar's tests and its benchmark share: the spoken corpus and a real sidecar process."""
