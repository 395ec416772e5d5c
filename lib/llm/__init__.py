"""Model clients for the playground and what their errors mean."""
