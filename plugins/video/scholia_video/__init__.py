"""scholia-video: videos become frames labeled like images; timelines and tracks on videos.

Work in progress (issue 7): the pieces land one module at a time and are registered here as
they do.
"""
