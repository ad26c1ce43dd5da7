"""Placeholder: layers of this family are added by the layer-catalogue work (issue 4)."""

__all__: list[str] = []
