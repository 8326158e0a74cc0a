package io.peerlink.bridge.internal.ws;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads an OpenAPI 3 description (JSON or YAML) with swagger-parser. */
final class OpenApiReader {
    private OpenApiReader() {
    }

    static ServiceModel read(String name, Path file) throws DescriptionException {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        options.setResolveFully(true);
        SwaggerParseResult result = new OpenAPIV3Parser().readLocation(file.toUri().toString(), null, options);
        OpenAPI api = result.getOpenAPI();
        List<String> messages = result.getMessages() == null ? List.of() : result.getMessages();
        if (api == null || api.getPaths() == null) {
            List<String> problems = new ArrayList<>();
            problems.add(file.getFileName() + ": not a readable OpenAPI 3 description");
            messages.forEach(m -> problems.add(file.getFileName() + ": " + m));
            throw new DescriptionException(problems);
        }
        if (!messages.isEmpty()) {
            List<String> problems = new ArrayList<>();
            messages.forEach(m -> problems.add(file.getFileName() + ": " + m));
            throw new DescriptionException(problems);
        }
        Optional<URI> base = Optional.empty();
        if (api.getServers() != null && !api.getServers().isEmpty()) {
            try {
                URI url = URI.create(api.getServers().get(0).getUrl());
                if (url.isAbsolute()) {
                    base = Optional.of(url);
                }
            } catch (IllegalArgumentException e) {
                throw new DescriptionException(List.of(file.getFileName() + ": servers[0].url is not a URI: "
                        + e.getMessage()));
            }
        }
        Map<String, SecurityScheme> schemes = api.getComponents() == null || api.getComponents().getSecuritySchemes()
                == null ? Map.of() : api.getComponents().getSecuritySchemes();
        List<ServiceModel.Operation> operations = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<String> secured = new java.util.LinkedHashSet<>();
        for (Map.Entry<String, PathItem> path : api.getPaths().entrySet()) {
            PathItem item = path.getValue();
            for (Map.Entry<PathItem.HttpMethod, io.swagger.v3.oas.models.Operation> e : item.readOperationsMap()
                    .entrySet()) {
                io.swagger.v3.oas.models.Operation op = e.getValue();
                String method = e.getKey().name();
                String id = ServiceModel.slug(op.getOperationId() != null ? op.getOperationId()
                        : method.toLowerCase(java.util.Locale.ROOT) + "-" + path.getKey());
                if (!ids.add(id)) {
                    throw new DescriptionException(List.of(file.getFileName() + ": two operations map to the CoAP "
                            + "resource name '" + id + "'"));
                }
                List<ServiceModel.Param> params = new ArrayList<>();
                List<Parameter> all = new ArrayList<>();
                if (item.getParameters() != null) {
                    all.addAll(item.getParameters());
                }
                if (op.getParameters() != null) {
                    all.addAll(op.getParameters());
                }
                for (Parameter p : all) {
                    ServiceModel.In in;
                    switch (p.getIn() == null ? "" : p.getIn()) {
                        case "path":
                            in = ServiceModel.In.PATH;
                            break;
                        case "query":
                            in = ServiceModel.In.QUERY;
                            break;
                        case "header":
                            in = ServiceModel.In.HEADER;
                            break;
                        default:
                            throw new DescriptionException(List.of(file.getFileName() + ": parameter '" + p.getName()
                                    + "' of " + id + " is in '" + p.getIn() + "', which CoAP cannot carry"));
                    }
                    params.add(new ServiceModel.Param(p.getName(), in,
                            in == ServiceModel.In.PATH || Boolean.TRUE.equals(p.getRequired())));
                }
                String rt = id;
                if (op.getExtensions() != null && op.getExtensions().get("x-coap-rt") instanceof String x) {
                    rt = x;
                } else if (op.getTags() != null && !op.getTags().isEmpty()) {
                    rt = ServiceModel.slug(op.getTags().get(0));
                }
                List<String> requestTypes = op.getRequestBody() != null && op.getRequestBody().getContent() != null
                        ? new ArrayList<>(op.getRequestBody().getContent().keySet()) : List.of();
                List<String> responseTypes = new ArrayList<>();
                if (op.getResponses() != null) {
                    for (Map.Entry<String, ApiResponse> r : op.getResponses().entrySet()) {
                        if (r.getKey().startsWith("2") && r.getValue().getContent() != null) {
                            for (String t : r.getValue().getContent().keySet()) {
                                if (!responseTypes.contains(t)) {
                                    responseTypes.add(t);
                                }
                            }
                        }
                    }
                }
                List<SecurityRequirement> security = op.getSecurity() != null ? op.getSecurity() : api.getSecurity();
                if (security != null) {
                    security.forEach(req -> secured.addAll(req.keySet()));
                }
                operations.add(new ServiceModel.Operation(id, method, path.getKey(), params, rt,
                        Optional.ofNullable(op.getSummary()), requestTypes, responseTypes));
            }
        }
        List<ServiceModel.SecretParam> secrets = new ArrayList<>();
        for (String schemeName : secured) {
            SecurityScheme scheme = schemes.get(schemeName);
            if (scheme == null) {
                throw new DescriptionException(List.of(file.getFileName() + ": security scheme '" + schemeName
                        + "' is not declared"));
            }
            if (scheme.getType() != SecurityScheme.Type.APIKEY || scheme.getIn() == SecurityScheme.In.COOKIE) {
                throw new DescriptionException(List.of(file.getFileName() + ": security scheme '" + schemeName
                        + "' is " + scheme.getType() + "; the bridge supplies API keys in a header or query only"));
            }
            secrets.add(new ServiceModel.SecretParam(schemeName, scheme.getIn() == SecurityScheme.In.HEADER
                    ? ServiceModel.In.HEADER : ServiceModel.In.QUERY, scheme.getName()));
        }
        return new ServiceModel(name, base, operations, secrets);
    }
}
