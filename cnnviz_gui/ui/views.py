"""The window's views (central tabs and dock widgets) as sessions and preferences see them."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget


class ViewRegistry:
    """Every view of the window, the current tab, and switching tabs by title."""

    def __init__(self, tabs: QTabWidget, docks: list[QDockWidget]):
        self.tabs, self.docks = tabs, docks

    def all(self) -> list[QWidget]:
        """Central tabs first, then the dock widgets (the Input pane…)."""
        return [self.tabs.widget(i) for i in range(self.tabs.count())] + [d.widget() for d in self.docks]

    def current_title(self) -> str:
        return getattr(self.tabs.currentWidget(), "title", "")

    def show(self, title: str) -> bool:
        for i in range(self.tabs.count()):
            if getattr(self.tabs.widget(i), "title", None) == title:
                self.tabs.setCurrentIndex(i)
                return True
        return False
