package io.peerlink.bridge.internal.ws;

import org.raml.v2.api.RamlModelBuilder;
import org.raml.v2.api.RamlModelResult;
import org.raml.v2.api.model.common.ValidationResult;
import org.raml.v2.api.model.v10.api.Api;
import org.raml.v2.api.model.v10.bodies.Response;
import org.raml.v2.api.model.v10.datamodel.TypeDeclaration;
import org.raml.v2.api.model.v10.methods.Method;
import org.raml.v2.api.model.v10.resources.Resource;
import org.raml.v2.api.model.v10.security.SecurityScheme;
import org.raml.v2.api.model.v10.security.SecuritySchemeRef;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads a RAML 1.0 description with raml-parser-2 (the seed paper's format). */
final class RamlReader {
    private RamlReader() {
    }

    static ServiceModel read(String name, Path file) throws DescriptionException {
        RamlModelResult result = new RamlModelBuilder().buildApi(file.toFile());
        if (result.hasErrors()) {
            List<String> problems = new ArrayList<>();
            for (ValidationResult v : result.getValidationResults()) {
                problems.add(file.getFileName() + ": " + v.getMessage()
                        + (v.getPath() == null || v.getPath().isEmpty() ? "" : " (at " + v.getPath() + ")"));
            }
            throw new DescriptionException(problems);
        }
        Api api = result.getApiV10();
        if (api == null) {
            throw new DescriptionException(List.of(file.getFileName() + ": not a RAML 1.0 API (RAML 0.8 and fragments "
                    + "are not supported)"));
        }
        Optional<URI> base = Optional.empty();
        if (api.baseUri() != null && api.baseUri().value() != null) {
            String text = api.baseUri().value();
            if (api.version() != null && api.version().value() != null) {
                text = text.replace("{version}", api.version().value());
            }
            try {
                URI url = URI.create(text);
                if (url.isAbsolute()) {
                    base = Optional.of(url);
                }
            } catch (IllegalArgumentException e) {
                throw new DescriptionException(List.of(file.getFileName() + ": baseUri is not a URI: " + text));
            }
        }
        List<ServiceModel.Operation> operations = new ArrayList<>();
        Map<String, ServiceModel.SecretParam> secrets = new LinkedHashMap<>();
        collect(file, api, api.resources(), operations, new HashSet<>(), secrets);
        return new ServiceModel(name, base, operations, List.copyOf(secrets.values()));
    }

    private static void collect(Path file, Api api, List<Resource> resources, List<ServiceModel.Operation> out,
                                Set<String> ids, Map<String, ServiceModel.SecretParam> secrets)
            throws DescriptionException {
        for (Resource resource : resources) {
            for (Method m : resource.methods()) {
                String method = m.method().toUpperCase(Locale.ROOT);
                String display = m.displayName() == null ? null : m.displayName().value();
                boolean named = display != null && !display.equalsIgnoreCase(m.method());
                String id = ServiceModel.slug(named ? display : m.method() + "-" + resource.resourcePath());
                if (!ids.add(id)) {
                    throw new DescriptionException(List.of(file.getFileName() + ": two methods map to the CoAP "
                            + "resource name '" + id + "'"));
                }
                List<ServiceModel.Param> params = new ArrayList<>();
                for (Resource r = resource; r != null; r = r.parentResource()) {
                    for (TypeDeclaration t : r.uriParameters()) {
                        params.add(new ServiceModel.Param(t.name(), ServiceModel.In.PATH, true));
                    }
                }
                for (TypeDeclaration t : m.queryParameters()) {
                    params.add(new ServiceModel.Param(t.name(), ServiceModel.In.QUERY, !Boolean.FALSE.equals(t.required())));
                }
                for (TypeDeclaration t : m.headers()) {
                    params.add(new ServiceModel.Param(t.name(), ServiceModel.In.HEADER, !Boolean.FALSE.equals(t.required())));
                }
                List<String> requestTypes = new ArrayList<>();
                for (TypeDeclaration b : m.body()) {
                    requestTypes.add(b.name());
                }
                List<String> responseTypes = new ArrayList<>();
                for (Response r : m.responses()) {
                    if (r.code().value().startsWith("2")) {
                        for (TypeDeclaration b : r.body()) {
                            if (!responseTypes.contains(b.name())) {
                                responseTypes.add(b.name());
                            }
                        }
                    }
                }
                if (responseTypes.isEmpty() && api.mediaType() != null) {
                    api.mediaType().forEach(t -> responseTypes.add(t.value()));
                }
                List<SecuritySchemeRef> securedBy = !m.securedBy().isEmpty() ? m.securedBy()
                        : !resource.securedBy().isEmpty() ? resource.securedBy() : api.securedBy();
                for (SecuritySchemeRef ref : securedBy) {
                    if (ref == null || ref.securityScheme() == null) {
                        continue; // "null" in securedBy: the method may also be called without security
                    }
                    SecurityScheme scheme = ref.securityScheme();
                    if (!"Pass Through".equals(scheme.type())) {
                        throw new DescriptionException(List.of(file.getFileName() + ": security scheme '" + scheme.name()
                                + "' is " + scheme.type() + "; the bridge supplies API keys (Pass Through) only"));
                    }
                    if (scheme.describedBy() != null) {
                        for (TypeDeclaration q : scheme.describedBy().queryParameters()) {
                            secrets.put(scheme.name() + "/q/" + q.name(),
                                    new ServiceModel.SecretParam(scheme.name(), ServiceModel.In.QUERY, q.name()));
                        }
                        for (TypeDeclaration h : scheme.describedBy().headers()) {
                            secrets.put(scheme.name() + "/h/" + h.name(),
                                    new ServiceModel.SecretParam(scheme.name(), ServiceModel.In.HEADER, h.name()));
                        }
                    }
                }
                String rt = resource.displayName() != null && resource.displayName().value() != null
                        && !resource.displayName().value().equals(resource.relativeUri().value())
                        ? ServiceModel.slug(resource.displayName().value()) : id;
                out.add(new ServiceModel.Operation(id, method, resource.resourcePath(), params, rt,
                        Optional.ofNullable(m.description() == null ? null : m.description().value()), requestTypes,
                        responseTypes));
            }
            collect(file, api, resource.resources(), out, ids, secrets);
        }
    }
}
