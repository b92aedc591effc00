from fake_multimodal import tokenizer_image_token  # noqa: F401  (the adapter imports it from here)
