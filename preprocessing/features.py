"""Names of the raw and transformed features, shared by Transform, Trainer and serving."""

IMAGE_KEY = 'image'
LABEL_KEY = 'label'
NUM_CLASSES = 10
