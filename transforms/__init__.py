"""Feature contract, TFT preprocessing and the Keras model for traffic embeddings."""
