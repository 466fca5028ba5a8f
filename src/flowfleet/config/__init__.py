"""Reading config files: YAML with positions, strict models, both file formats."""
