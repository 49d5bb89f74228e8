SELECT sku FROM catalog.product_barcodes WHERE barcode = $1
