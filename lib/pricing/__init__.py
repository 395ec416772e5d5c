"""Price catalog with effective dates, model-name normalisation and cost estimates."""
