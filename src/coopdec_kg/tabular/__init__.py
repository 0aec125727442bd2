"""Spreadsheets in and out: a blank submission to fill (template), a filled one mapped to RDF
through the shipped CSVW mapping (mapping.json), checked by the law and added like any
submission (import), and query answers as workbooks. It sits above publish/ and below cli/;
openpyxl and odfpy are imported only when a spreadsheet is read or written."""
