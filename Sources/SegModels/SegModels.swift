// Placeholder so the target builds; the model files live beside it.
