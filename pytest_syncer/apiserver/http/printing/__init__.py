"""Server-side printing: ``meta.k8s.io/v1`` Tables with the columns the real API server sends.

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the cells it
gets, so the columns, cell values and age format here follow Kubernetes' own printers. Kinds
without a printer get NAME and AGE, as custom resources without printer columns do; a CRD's
``additionalPrinterColumns`` can be passed in.
"""
