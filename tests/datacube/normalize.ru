# W3C, The RDF Data Cube Vocabulary (2014), §10.2 Normalization algorithm:
# https://www.w3.org/TR/vocab-data-cube/#normalize-algorithm — the integrity constraints assume it.
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>

# Phase 1: type and property closure
INSERT { ?o rdf:type qb:Observation } WHERE { [] qb:observation ?o } ;
INSERT { ?o rdf:type qb:Observation } WHERE { ?o qb:dataSet [] } ;
INSERT { ?s rdf:type qb:Slice } WHERE { [] qb:slice ?s } ;
INSERT { ?cs qb:componentProperty ?p . ?p rdf:type qb:DimensionProperty } WHERE { ?cs qb:dimension ?p } ;
INSERT { ?cs qb:componentProperty ?p . ?p rdf:type qb:MeasureProperty } WHERE { ?cs qb:measure ?p } ;
INSERT { ?cs qb:componentProperty ?p . ?p rdf:type qb:AttributeProperty } WHERE { ?cs qb:attribute ?p } ;

# Phase 2: push down attachment levels
# data set attachments
INSERT { ?obs ?comp ?value } WHERE {
    ?spec qb:componentProperty ?comp ;
          qb:componentAttachment qb:DataSet .
    ?dataset qb:structure [qb:component ?spec] ;
             ?comp ?value .
    ?obs qb:dataSet ?dataset .
} ;
# slice attachments
INSERT { ?obs ?comp ?value } WHERE {
    ?spec qb:componentProperty ?comp ;
          qb:componentAttachment qb:Slice .
    ?dataset qb:structure [qb:component ?spec] ;
             qb:slice ?slice .
    ?slice ?comp ?value ;
           qb:observation ?obs .
} ;
# dimension values on slices
INSERT { ?obs ?comp ?value } WHERE {
    ?spec qb:componentProperty ?comp .
    ?comp a qb:DimensionProperty .
    ?dataset qb:structure [qb:component ?spec] ;
             qb:slice ?slice .
    ?slice ?comp ?value ;
           qb:observation ?obs .
}
