"""Pulls from the providers' admin usage and cost APIs into the store."""
