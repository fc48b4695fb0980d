"""The broker boundary: the only thing trading code talks to is ``base.Broker``."""
