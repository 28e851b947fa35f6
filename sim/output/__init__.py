"""The output layer: the result folder and every file in it.

Where results go (`destination`), how a folder is replaced whole
(`staging`), what goes in it (`result_files`: the CSVs and Parquet,
`run_json`, `pictures`, `chrome_trace`, `report_page`) and the pictures
themselves (`plots`), drawn with matplotlib only when a file is wanted.
"""
