from .davis_metric import DAVISMetric
from .miou_metric import MIoUMetric
from .object_discovery_metric import ObjectDiscoveryMetric
from .pck_metric import PCKMetric
from .single_object_metric import SingleObjectMetric
