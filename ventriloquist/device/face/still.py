"""Parts of the face kept as pictures while they stay still: a frame copies their pixels instead of drawing them
again (eyes, brows and nose stay still through most of speech; each drawn costs as much as a copy of the screen)."""

from __future__ import annotations

from collections.abc import Callable

import pygame


class Still:
    """One part's picture: the pixels of the rectangle it drew, taken just after drawing it, in the surface's own
    pixel format so that putting it back is a plain copy.

    The pixels hold what lay under the part too, so the picture is taken and used only where nothing but the head
    at rest lies under its rectangle (`under`): then a frame that draws the part for the same key gets the same
    pixels there.
    """

    def __init__(self) -> None:
        self.key: bytes | None = None
        """What the picture was drawn for; None: no picture."""
        self.picture, self.rect = pygame.Surface((0, 0)), pygame.Rect(0, 0, 0, 0)

    def draw(self, surface: pygame.Surface, key: bytes, under: Callable[[pygame.Rect], bool],
             draw: Callable[[], pygame.Rect]) -> pygame.Rect:
        """The part on `surface`: the picture if it was drawn for `key` and nothing is `under` it, else `draw()`
        (which returns the rectangle it drew) and a picture of that. Returns the rectangle drawn."""
        if key == self.key and not under(self.rect):
            return surface.blit(self.picture, self.rect)
        rect = draw()
        self.key = None
        if rect and not under(rect) and surface.get_clip() == surface.get_rect():
            self.picture, self.rect, self.key = surface.subsurface(rect).copy(), rect, key
        return rect
