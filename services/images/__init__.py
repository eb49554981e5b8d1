"""The images service: image generation upstream, stored generated images, and background
removal with rembg, behind ``drafter.images.v1.ImagesService``."""
