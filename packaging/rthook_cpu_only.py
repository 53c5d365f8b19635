"""PyInstaller runtime hook of the CPU bundle built from a CUDA torch (build.spec with
STUDIO_BUNDLE_CPU=1; packaging/cuda_stubs.py): its cuBLAS, cuDNN, NCCL... are stubs, so no
CUDA device may ever be used. Hiding every device before torch loads makes
torch.cuda.is_available() False even on a machine with an NVIDIA GPU and driver."""

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["STUDIO_BUNDLE_CPU"] = "1"  # the self-test reports and checks it
