using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.SecureAggregation;

namespace EdgeProfile.Federated.Tests;

public class SecureAggregationTests
{
    [Fact]
    public void Sum_of_all_clients_equals_the_plain_sum_within_the_fixed_point_error()
    {
        foreach (var scale in new[] { 1 << 24, 1 << 8 })
        {
            using var round = new SecureAggregationRound(clients: 8, threshold: 5, parameters: 5000, seed: 1, scale);
            round.Advertise();
            round.Share();
            round.Mask();
            round.Unmask();
            var result = round.Server.ComputeSum();

            Assert.Equal(round.Ids, result.Contributors);
            Assert.Empty(result.Dropped);
            // Each of the 8 encodings rounds by at most 0.5/scale.
            var bound = 8 * 0.5 / scale + 1e-12;
            var maxError = MaxAbsDifference(result.Sum, round.PlainSum(round.Ids));
            Assert.True(maxError <= bound, $"scale {scale}: error {maxError} above {bound}");
        }
    }

    [Fact]
    public void Survivors_sum_is_recovered_when_30_percent_of_clients_drop_after_masking()
    {
        using var round = new SecureAggregationRound(clients: 10, threshold: 6, parameters: 3000, seed: 2);
        string[] dropped = ["store-01", "store-04", "store-08"];
        round.Advertise();
        round.Share();
        round.Mask(absent: dropped);
        Assert.Equal(dropped, round.Request!.Dropped);
        round.Unmask();
        var result = round.Server.ComputeSum();

        var survivors = round.Ids.Except(dropped).ToArray();
        Assert.Equal(survivors, result.Contributors);
        Assert.Equal(dropped, result.Dropped);
        var maxError = MaxAbsDifference(result.Sum, round.PlainSum(survivors));
        Assert.True(maxError <= 7 * 0.5 / round.Config.Scale + 1e-12, $"error {maxError}");
    }

    [Fact]
    public void Clients_dropping_at_every_step_are_left_out_and_the_rest_still_sum()
    {
        using var round = new SecureAggregationRound(clients: 9, threshold: 5, parameters: 1000, seed: 3);
        round.Advertise(absent: "store-00");
        round.Share(absent: "store-05");
        Assert.DoesNotContain("store-05", round.Routed.Keys);
        round.Mask(absent: "store-02");
        // One survivor does not answer the unmask request; the others are still at least t.
        round.Unmask(absent: "store-07");
        var result = round.Server.ComputeSum();

        string[] contributors = ["store-01", "store-03", "store-04", "store-06", "store-07", "store-08"];
        Assert.Equal(contributors, result.Contributors);
        Assert.Equal(["store-02"], result.Dropped);
        Assert.True(MaxAbsDifference(result.Sum, round.PlainSum(contributors)) <= 6 * 0.5 / round.Config.Scale + 1e-12);
    }

    [Fact]
    public void Server_never_holds_an_input_it_could_read_even_with_the_revealed_self_masks()
    {
        const int Parameters = 4096;
        using var round = new SecureAggregationRound(clients: 6, threshold: 4, parameters: Parameters, seed: 4);
        round.Advertise();
        round.Share();
        round.Mask(absent: "store-03");
        round.Unmask();
        var result = round.Server.ComputeSum();
        var encoder = new FixedPoint(round.Config.Scale);
        var encoded = round.Inputs.ToDictionary(p => p.Key, p => encoder.Encode(p.Value));

        // The test can tell an input from its masked form: the unmasked aggregate is close to the sum of inputs.
        var plainSum = encoder.Encode(round.PlainSum(result.Contributors).Select(v => (float)v).ToArray());
        Assert.Equal(Parameters, NearCount(encoder.Encode(result.Sum.Select(v => (float)v).ToArray()), plainSum));

        var masked = round.ServerInbox.OfType<SecAggMaskedInput>().ToArray();
        Assert.Equal(5, masked.Length);
        foreach (var y in masked)
        {
            var words = Words(y);
            AssertLooksUniform(words);
            foreach (var (owner, x) in encoded)
            {
                Assert.True(NearCount(words, x) <= 2, $"masked input of {y.ClientId} is near the input of {owner}");
                Assert.InRange(Correlation(words, round.Inputs[owner]), -0.1, 0.1);
            }
        }

        // The server legitimately learns every survivor's self-mask seed b_v; without the pairwise masks that is
        // still noise. The seed and key derivation are re-done here from their documented definitions.
        var responses = round.ServerInbox.OfType<SecAggUnmaskResponse>().ToArray();
        var indices = round.Ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i + 1);
        foreach (var y in masked)
        {
            var seed = ShamirSecretSharing.Reconstruct(responses.Take(4)
                .Select(r => (indices[r.ClientId], r.SelfMaskShares.Single(s => s.OwnerId == y.ClientId).Share)).ToArray());
            var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, seed, 16,
                Encoding.UTF8.GetBytes(round.Config.SessionId), "EdgeProfile.SecAgg/v1/self-mask"u8.ToArray());
            var withoutSelfMask = Words(y);
            SecAggPrg.Subtract(key, withoutSelfMask);
            AssertLooksUniform(withoutSelfMask);
            Assert.True(NearCount(withoutSelfMask, encoded[y.ClientId]) <= 2, $"{y.ClientId} exposed by its self mask");
        }
        // The dropped client's key was revealed, but its masked input never reached the server.
        Assert.DoesNotContain(masked, y => y.ClientId == "store-03");

        // The shares the server routed do not carry in clear the share values revealed later.
        var shares = round.ServerInbox.OfType<SecAggEncryptedShare>().ToArray();
        Assert.Equal(6 * 5, shares.Length);
        foreach (var share in shares.Where(s => round.Responses.ContainsKey(s.RecipientId)))
        {
            var revealed = round.Responses[share.RecipientId].SelfMaskShares
                .Concat(round.Responses[share.RecipientId].MaskingKeyShares).Single(s => s.OwnerId == share.SenderId);
            Assert.Equal(-1, share.Ciphertext.AsSpan().IndexOf(revealed.Share.AsSpan(0, 8)));
        }
    }

    [Fact]
    public void A_share_redirected_tampered_or_relabelled_fails_authentication()
    {
        using var round = new SecureAggregationRound(clients: 5, threshold: 3, parameters: 100, seed: 5);
        round.Advertise();
        round.Share();
        var forB = round.Routed["store-01"];
        var fromA = forB.Single(s => s.SenderId == "store-00");

        // Addressed to store-01, delivered to store-02 under its name.
        var redirected = round.Routed["store-02"].Select(s => s.SenderId == "store-00"
            ? fromA with { RecipientId = "store-02" }
            : s).ToArray();
        var e = Assert.Throws<SecAggException>(() => round.Clients["store-02"].MaskInput(round.Inputs["store-02"], redirected));
        Assert.IsAssignableFrom<CryptographicException>(e.InnerException);
        Assert.Contains("store-00", e.Message);

        var tampered = (byte[])fromA.Ciphertext.Clone();
        tampered[7] ^= 1;
        var flipped = forB.Select(s => s == fromA ? s with { Ciphertext = tampered } : s).ToArray();
        e = Assert.Throws<SecAggException>(() => round.Clients["store-01"].MaskInput(round.Inputs["store-01"], flipped));
        Assert.IsAssignableFrom<CryptographicException>(e.InnerException);

        // Claimed to come from store-03 instead of store-00 (store-03's own share left out).
        var relabelled = forB.Where(s => s.SenderId != "store-03")
            .Select(s => s == fromA ? s with { SenderId = "store-03" } : s).ToArray();
        e = Assert.Throws<SecAggException>(() => round.Clients["store-01"].MaskInput(round.Inputs["store-01"], relabelled));
        Assert.IsAssignableFrom<CryptographicException>(e.InnerException);

        // The untouched shares are accepted.
        Assert.Equal(100, round.Clients["store-01"].MaskInput(round.Inputs["store-01"], forB).Elements.Length / 8);
    }

    [Fact]
    public void A_client_never_reveals_both_shares_of_one_peer_nor_its_own_key()
    {
        using var round = new SecureAggregationRound(clients: 5, threshold: 3, parameters: 100, seed: 6);
        round.Advertise();
        round.Share();
        round.Mask();
        var client = round.Clients["store-00"];
        var honest = client.Unmask(round.Request!);
        Assert.Equal(5, honest.SelfMaskShares.Length);
        Assert.Empty(honest.MaskingKeyShares);

        // A server claiming afterwards that store-02 dropped would get its key share too: refused.
        var lying = new SecAggUnmaskRequest(["store-00", "store-01", "store-03", "store-04"], ["store-02"]);
        var e = Assert.Throws<SecAggException>(() => client.Unmask(lying));
        Assert.Contains("store-02", e.Message);

        // Both kinds for one peer in one request.
        var both = new SecAggUnmaskRequest(["store-01", "store-02", "store-03", "store-04", "store-00"], ["store-04"]);
        Assert.Throws<SecAggException>(() => round.Clients["store-01"].Unmask(both));

        // Its own key while it is alive.
        var selfDropped = new SecAggUnmaskRequest(["store-00", "store-01", "store-03", "store-04"], ["store-02"]);
        e = Assert.Throws<SecAggException>(() => round.Clients["store-02"].Unmask(selfDropped));
        Assert.Contains("dropped", e.Message);

        // A refused request revealed nothing, so the honest request still works for that client.
        Assert.Equal(5, round.Clients["store-02"].Unmask(round.Request!).SelfMaskShares.Length);
    }

    [Fact]
    public void Too_few_survivors_fail_the_round_with_the_reason()
    {
        using var round = new SecureAggregationRound(clients: 6, threshold: 4, parameters: 100, seed: 7);
        round.Advertise();
        round.Share();
        var e = Assert.Throws<SecAggException>(() => round.Mask(absent: ["store-00", "store-02", "store-04"]));
        Assert.Contains("round 2", e.Message);
        Assert.Contains("only 3 of 6", e.Message);
        Assert.Contains("threshold 4", e.Message);
        Assert.Equal(SecAggStage.Failed, round.Server.Stage);
        Assert.Equal(e.Message, round.Server.FailureReason);
        var after = Assert.Throws<SecAggException>(() => round.Server.ComputeSum());
        Assert.Contains("failed", after.Message);
    }

    [Fact]
    public void Too_few_unmask_responses_fail_the_round()
    {
        using var round = new SecureAggregationRound(clients: 6, threshold: 4, parameters: 100, seed: 8);
        round.Advertise();
        round.Share();
        round.Mask();
        round.Unmask(absent: ["store-01", "store-03", "store-05"]);
        var e = Assert.Throws<SecAggException>(() => round.Server.ComputeSum());
        Assert.Contains("round 3", e.Message);
        Assert.Equal(SecAggStage.Failed, round.Server.Stage);
    }

    [Fact]
    public void A_wrong_share_of_a_dropped_clients_key_is_detected_not_summed()
    {
        using var round = new SecureAggregationRound(clients: 5, threshold: 3, parameters: 100, seed: 10);
        round.Advertise();
        round.Share();
        round.Mask(absent: "store-02");
        foreach (var id in round.Request!.Survivors)
        {
            var response = round.Clients[id].Unmask(round.Request);
            if (id == "store-00")
            {
                var share = (byte[])response.MaskingKeyShares.Single().Share.Clone();
                share[^1] ^= 1;
                response = response with { MaskingKeyShares = [new SecAggRevealedShare("store-02", share)] };
            }
            round.Server.AddUnmaskResponse(response);
        }
        var e = Assert.Throws<SecAggException>(() => round.Server.ComputeSum());
        Assert.Contains("store-02", e.Message);
        Assert.Equal(SecAggStage.Failed, round.Server.Stage);
    }

    [Fact]
    public void Server_rejects_late_repeated_and_foreign_messages()
    {
        using var round = new SecureAggregationRound(clients: 5, threshold: 3, parameters: 100, seed: 9);
        round.Advertise();
        round.Share();
        var late = round.Clients["store-04"].MaskInput(round.Inputs["store-04"], round.Routed["store-04"]);
        round.Mask(absent: "store-04");
        // Accepting it now would add a masked input whose masks are about to be removed as a dropped client's.
        Assert.Throws<SecAggException>(() => round.Server.AddMaskedInput(late));
        Assert.Throws<SecAggException>(() => round.Server.AddAdvertisement(round.Roster[0]));

        var response = round.Clients["store-00"].Unmask(round.Request!);
        round.Server.AddUnmaskResponse(response);
        Assert.Throws<SecAggException>(() => round.Server.AddUnmaskResponse(response));
        var partial = round.Clients["store-01"].Unmask(round.Request!) with { MaskingKeyShares = [] };
        Assert.Throws<SecAggException>(() => round.Server.AddUnmaskResponse(partial));
        Assert.Equal(SecAggStage.Unmasking, round.Server.Stage);
    }

    [Fact]
    public void Masked_input_round_trips_through_its_wire_form()
    {
        ulong[] values = [0, 1, ulong.MaxValue, 0x0123456789ABCDEF];
        var input = new SecAggMaskedInput("store-00", MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        var bytes = input.ToBytes();
        Assert.Equal(32, bytes.Length);
        Assert.Equal(0xEF, bytes[24]);
        Assert.Equal(values, Words(SecAggMaskedInput.FromBytes("store-00", bytes)));
    }

    [Theory]
    [InlineData(64, 4 * 8 - 1)]
    [InlineData(64, 4 * 4)]
    [InlineData(32, 4 * 8)]
    public void Server_refuses_a_masked_input_of_the_wrong_size_for_its_ring(int ringBits, int bytes)
    {
        using var round = new SecureAggregationRound(clients: 3, threshold: 2, parameters: 4, seed: 21, ringBits: ringBits);
        round.Advertise();
        round.Share();
        var error = Assert.Throws<SecAggException>(() => round.Server.AddMaskedInput(new SecAggMaskedInput("store-00", new byte[bytes])));
        Assert.Contains($"{ringBits}-bit ring", error.Message, StringComparison.Ordinal);

        // Refused before it touched the sum: the round goes on with store-00 as dropped, its masks removed.
        round.Mask(absent: "store-00");
        round.Unmask();
        var result = round.Server.ComputeSum();
        Assert.Equal(["store-00"], result.Dropped);
        Assert.True(MaxAbsDifference(result.Sum, round.PlainSum(["store-01", "store-02"])) <= 2 * 0.5 / round.Config.Scale + 1e-12);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void A_round_in_the_32_bit_ring_recovers_the_survivors_sum_and_sends_half_the_bytes(int dropped)
    {
        // 10 clients, threshold 6: up to 4 may drop after sharing keys (3 = 30 %). Inputs are clipped updates, the
        // 32-bit ring's use, at the scale SecAggWire.ForClippedUpdates picks for them.
        const int Parameters = 1001; // odd: the last AES block is only partly used
        var (ringBits, scale) = SecAggWire.ForClippedUpdates(10, clipNorm: 1.0);
        Assert.Equal(32, ringBits);
        using var round = new SecureAggregationRound(clients: 10, threshold: 6, parameters: Parameters, seed: 22, scale: scale, ringBits: 32);
        round.Advertise();
        round.Share();
        var absent = round.Ids.Skip(2).Take(dropped).ToArray();
        round.Mask(absent);
        round.Unmask();
        var result = round.Server.ComputeSum();

        Assert.All(round.Masked.Values, y => Assert.Equal(Parameters * 4, y.ToBytes().Length));
        Assert.Equal(absent, result.Dropped);
        var contributors = round.Ids.Except(absent).ToArray();
        Assert.Equal(contributors, result.Contributors);
        Assert.True(MaxAbsDifference(result.Sum, round.PlainSum(contributors)) <= contributors.Length * 0.5 / scale + 1e-12);
    }

    [Fact]
    public void Clipped_updates_get_the_32_bit_ring_only_when_a_fine_scale_keeps_their_sum_inside_it()
    {
        var (bits, scale) = SecAggWire.ForClippedUpdates(100, clipNorm: 1.0);
        Assert.Equal(32, bits);
        Assert.Equal(1 << 24, scale); // 100 · 1.001 · 2^24 < 2^31
        Assert.True(new FixedPoint(scale, 32).MaxAbsValue(100) >= 1.0);

        (bits, scale) = SecAggWire.ForClippedUpdates(1000, clipNorm: 5.0);
        Assert.Equal(32, bits);
        Assert.True(scale < 1 << 24);
        Assert.True(new FixedPoint(scale, 32).MaxAbsValue(1000) >= 5.0);
        Assert.True(new FixedPoint(scale * 2, 32).MaxAbsValue(1000) < 5.0 * 1.001, "the scale is the largest that fits");

        // 2^31 / (10,000 · 1,000) leaves a scale below 2^16: too coarse, so the 64-bit ring.
        Assert.Equal((64, SecAggWire.UpdateScale), SecAggWire.ForClippedUpdates(10_000, clipNorm: 1000));
    }

    private static ulong[] Words(SecAggMaskedInput input) => MemoryMarshal.Cast<byte, ulong>(input.Elements).ToArray();

    private static double MaxAbsDifference(double[] a, double[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
    }

    /// <summary>Coordinates where two ring vectors differ by less than 2^40 (uniform noise: probability 2^-23 each).</summary>
    private static int NearCount(ulong[] a, ulong[] b) =>
        a.Zip(b, (x, y) => Math.Abs((double)unchecked((long)(x - y))) < 1L << 40 ? 1 : 0).Sum();

    private static void AssertLooksUniform(ulong[] values)
    {
        // For uniform 64-bit words the mean of v/2^64 is 0.5 ± 0.29/sqrt(n) and half of the top bits are set.
        var mean = values.Average(v => v / 18446744073709551616.0);
        var topBits = values.Count(v => v >> 63 == 1) / (double)values.Length;
        Assert.InRange(mean, 0.45, 0.55);
        Assert.InRange(topBits, 0.45, 0.55);
    }

    private static double Correlation(ulong[] masked, float[] input)
    {
        var x = masked.Select(v => (double)unchecked((long)v)).ToArray();
        var y = input.Select(v => (double)v).ToArray();
        double mx = x.Average(), my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.Sqrt(sxx * syy);
    }
}
