package io.peerlink.gateway.internal;

import io.peerlink.gateway.ModelState;

import org.json.JSONObject;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** One node, everything in memory: the embedded default {@link GatewayState}. */
public final class InMemoryGatewayState implements GatewayState {

    private final Map<String, Map<String, DeviceModel>> devices = new ConcurrentHashMap<>();
    private final Set<String> online = ConcurrentHashMap.newKeySet();

    @Override
    public Optional<ModelState> register(String gatewayId, String deviceId, int maxDevices) {
        Map<String, DeviceModel> own = devices.computeIfAbsent(gatewayId, g -> new ConcurrentHashMap<>());
        // Registration of one gateway is serialised by its connection's monitor (one connection per id).
        if (!own.containsKey(deviceId) && own.size() >= maxDevices) {
            return Optional.empty();
        }
        return Optional.of(own.computeIfAbsent(deviceId, DeviceModel::new).snapshot());
    }

    private DeviceModel find(String gatewayId, String deviceId) {
        return devices.getOrDefault(gatewayId, Map.of()).get(deviceId);
    }

    @Override
    public boolean isRegistered(String gatewayId, String deviceId) {
        return find(gatewayId, deviceId) != null;
    }

    @Override
    public Optional<ModelState> model(String gatewayId, String deviceId) {
        return Optional.ofNullable(find(gatewayId, deviceId)).map(DeviceModel::snapshot);
    }

    @Override
    public Optional<ModelState> setDesired(String gatewayId, String deviceId, String desiredJson) {
        return Optional.ofNullable(find(gatewayId, deviceId)).map(m -> m.setDesired(new JSONObject(desiredJson)));
    }

    @Override
    public ReportOutcome report(String gatewayId, String deviceId, long baseVersion, String reportedJson,
                                Consumer<ModelState> after) {
        DeviceModel m = find(gatewayId, deviceId);
        if (m == null) {
            return ReportOutcome.UNKNOWN_DEVICE;
        }
        ModelState s = m.report(baseVersion, new JSONObject(reportedJson));
        after.accept(s == null ? m.snapshot() : s);
        return s == null ? ReportOutcome.CONFLICT : ReportOutcome.APPLIED;
    }

    @Override
    public void online(String gatewayId) {
        online.add(gatewayId);
    }

    @Override
    public void offline(String gatewayId) {
        online.remove(gatewayId);
    }

    @Override
    public Set<String> onlineGateways() {
        return Set.copyOf(online);
    }
}
