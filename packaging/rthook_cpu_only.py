"""PyInstaller runtime hook of the CPU bundle built from a CUDA torch (build.spec with
STUDIO_BUNDLE_CPU=1; packaging/cuda_stubs.py): its libtorch_cuda, cuBLAS, cuDNN, NCCL... are
stubs, so torch must behave as its CPU build. Runs before anything imports torch.

- Every CUDA device is hidden (torch.cuda.is_available() is False even with an NVIDIA GPU).
- torch._native registers Python kernels for the CUDA dispatch key at import, each over the
  CUDA kernel it wraps ("no kernel for CUDA for aten::linalg_polar.out" without one): torch's
  own hook for reordering those graphs (TORCH_PYTHON_NATIVE_USER_GRAPH_ORDER_FN, which names an
  importable function) drops every CUDA one.
"""

import os
import sys
import types

GRAPHS_MODULE = "studio_cpu_bundle_graphs"


def drop_cuda_graphs(op_symbol, dispatch_key, graph):
    """torch._native's ordering hook: no override graph for a CUDA dispatch key, the rest as is."""
    return [] if "CUDA" in str(dispatch_key).upper() else graph


module = types.ModuleType(GRAPHS_MODULE)
module.drop_cuda_graphs = drop_cuda_graphs
sys.modules[GRAPHS_MODULE] = module
os.environ["TORCH_PYTHON_NATIVE_USER_GRAPH_ORDER_FN"] = f"{GRAPHS_MODULE}.drop_cuda_graphs"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["STUDIO_BUNDLE_CPU"] = "1"  # the self-test reports and checks it
