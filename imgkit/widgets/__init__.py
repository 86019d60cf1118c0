"""Live displays for JupyterLab (ipywidgets); text stays the fallback everywhere else."""
