namespace EdgeProfile.Bench.Knowledge;

/// <summary>The benchmark's rule program, once in our rule language and once as SQLite SQL with the same meaning.</summary>
internal static class RuleProgram
{
    /// <summary>The eight features every synthetic customer has.</summary>
    public static readonly string[] Features = ["spend_30d", "orders_30d", "visits_7d", "days_since_last", "returns_90d", "cancels_90d", "avg_basket", "age"];

    /// <summary>Closure, interest propagation, helpers and 20 tag rules (3 with negation, 5 with aggregates).</summary>
    public const string Rules = """
        # helper facts
        spend_feature(spend_30d).
        spend_feature(avg_basket).
        risk_feature(returns_90d).
        risk_feature(cancels_90d).

        # helpers: customers, the transitive category closure, interest propagation up the taxonomy
        customer(C) :- feature(C, age, _).
        ancestor(X, Y) :- subClassOf(X, Y).
        ancestor(X, Z) :- ancestor(X, Y), subClassOf(Y, Z).
        top_level(X) :- subClassOf(X, 0).
        interested_in(C, X) :- interest(C, X).
        interested_in(C, Y) :- interest(C, X), ancestor(X, Y).
        active(C) :- feature(C, visits_7d, V), V > 0.
        high_spender(C) :- feature(C, spend_30d, S), S >= 5000.
        returner(C) :- feature(C, returns_90d, R), R >= 3.

        @rule high_value
        @en "Spent at least 5000 and ordered at least 3 times in 30 days"
        @zh "近30天消费满5000且下单至少3次"
        tag(C, high_value) :- feature(C, spend_30d, S), S >= 5000, feature(C, orders_30d, O), O >= 3.

        @rule frequent_visitor
        @en "At least 20 visits in 7 days"
        @zh "近7天访问至少20次"
        tag(C, frequent_visitor) :- feature(C, visits_7d, V), V >= 20.

        @rule lapsed
        @en "No purchase for more than 180 days"
        @zh "超过180天未购买"
        tag(C, lapsed) :- feature(C, days_since_last, D), D > 180.

        @rule big_basket
        @en "Average basket of at least 300"
        @zh "客单价至少300"
        tag(C, big_basket) :- feature(C, avg_basket, B), B >= 300.

        @rule young_shopper
        @en "Under 25 with at least 2 orders in 30 days"
        @zh "25岁以下且近30天至少下单2次"
        tag(C, young_shopper) :- feature(C, age, A), A < 25, feature(C, orders_30d, O), O >= 2.

        @rule senior
        @en "Aged 65 or over"
        @zh "65岁及以上"
        tag(C, senior) :- feature(C, age, A), A >= 65.

        @rule pet_lover
        @en "Interested in animals and pet supplies"
        @zh "关注宠物用品"
        tag(C, pet_lover) :- interested_in(C, 1).

        @rule parent_candidate
        @en "Interested in baby and toddler products, aged 25 to 40"
        @zh "关注母婴用品，年龄25至40岁"
        tag(C, parent_candidate) :- interested_in(C, 537), feature(C, age, A), A >= 25, A <= 40.

        @rule gadget_fan
        @en "Interested in electronics with at least 10 visits in 7 days"
        @zh "关注电子产品且近7天访问至少10次"
        tag(C, gadget_fan) :- interested_in(C, 222), feature(C, visits_7d, V), V >= 10.

        @rule home_maker
        @en "Interested in home and garden with an average basket of at least 100"
        @zh "关注家居园艺且客单价至少100"
        tag(C, home_maker) :- interested_in(C, 536), feature(C, avg_basket, B), B >= 100.

        @rule sports_active
        @en "Interested in sporting goods with at least 5 visits in 7 days"
        @zh "关注体育用品且近7天访问至少5次"
        tag(C, sports_active) :- interested_in(C, 988), feature(C, visits_7d, V), V >= 5.

        @rule deal_hunter
        @en "At least 2 returns in 90 days and an average basket under 50"
        @zh "近90天退货至少2次且客单价低于50"
        tag(C, deal_hunter) :- feature(C, returns_90d, R), R >= 2, feature(C, avg_basket, B), B < 50.

        @rule dormant_vip
        @en "Spent at least 5000 in 30 days but no visit in 7 days"
        @zh "近30天消费满5000但近7天未访问"
        tag(C, dormant_vip) :- high_spender(C), not active(C).

        @rule loyal
        @en "At least 5 orders in 30 days and fewer than 3 returns in 90 days"
        @zh "近30天至少下单5次且近90天退货少于3次"
        tag(C, loyal) :- feature(C, orders_30d, O), O >= 5, not returner(C).

        @rule no_food
        @en "Ordered in 30 days but never interested in food, beverages and tobacco"
        @zh "近30天有下单但从未关注食品饮料烟草"
        tag(C, no_food) :- feature(C, orders_30d, O), O >= 1, not interested_in(C, 412).

        @rule broad_interests
        @en "Interested in at least 12 categories (with their ancestors)"
        @zh "关注至少12个类目（含上级类目）"
        tag(C, broad_interests) :- customer(C), N = count(X : interested_in(C, X)), N >= 12.

        @rule single_interest
        @en "At most one direct interest"
        @zh "直接兴趣最多一个"
        tag(C, single_interest) :- customer(C), N = count(X : interest(C, X)), N <= 1.

        @rule multi_department
        @en "Interested in at least 3 top-level departments"
        @zh "关注至少3个一级类目"
        tag(C, multi_department) :- customer(C), N = count(T : interested_in(C, T), top_level(T)), N >= 3.

        @rule engaged_spend
        @en "30-day spend plus average basket of at least 6000"
        @zh "近30天消费与客单价之和至少6000"
        tag(C, engaged_spend) :- customer(C), S = sum(V, F : feature(C, F, V), spend_feature(F)), S >= 6000.

        @rule risky
        @en "Returns plus cancellations in 90 days of at least 8"
        @zh "近90天退货与取消合计至少8次"
        tag(C, risky) :- customer(C), S = sum(V, F : feature(C, F, V), risk_feature(F)), S >= 8.
        """;

    /// <summary>The closure stage alone, the same rules as in <see cref="Rules"/> (what <see cref="DeriveClosure"/> computes).</summary>
    public const string ClosureRules = """
        ancestor(X, Y) :- subClassOf(X, Y).
        ancestor(X, Z) :- ancestor(X, Y), subClassOf(Y, Z).
        top_level(X) :- subClassOf(X, 0).
        interested_in(C, X) :- interest(C, X).
        interested_in(C, Y) :- interest(C, X), ancestor(X, Y).
        """;

    /// <summary>Tables and the indexes a DBA would add for these rules, created before the load.</summary>
    public const string Schema = """
        CREATE TABLE subclass(x INTEGER NOT NULL, y INTEGER NOT NULL, PRIMARY KEY (x, y)) WITHOUT ROWID;
        CREATE TABLE feature(c INTEGER NOT NULL, f TEXT NOT NULL, v INTEGER NOT NULL, PRIMARY KEY (c, f)) WITHOUT ROWID;
        CREATE TABLE interest(c INTEGER NOT NULL, x INTEGER NOT NULL, PRIMARY KEY (c, x)) WITHOUT ROWID;
        CREATE TABLE spend_feature(f TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TABLE risk_feature(f TEXT PRIMARY KEY) WITHOUT ROWID;
        INSERT INTO spend_feature VALUES ('spend_30d'), ('avg_basket');
        INSERT INTO risk_feature VALUES ('returns_90d'), ('cancels_90d');
        """;

    /// <summary>Secondary indexes and statistics, built after the bulk load (part of the SQLite load time).</summary>
    public const string Indexes = """
        CREATE INDEX feature_fv ON feature(f, v);
        CREATE INDEX interest_x ON interest(x, c);
        CREATE INDEX subclass_y ON subclass(y, x);
        ANALYZE;
        """;

    /// <summary>The derivation to fixpoint: <see cref="DeriveClosure"/> then <see cref="DeriveTags"/> (timed).</summary>
    public const string Derive = DeriveClosure + "\n" + DeriveTags;

    /// <summary>The closure stage: a recursive CTE for <c>ancestor</c>, <c>top_level</c>, and <c>interested_in</c> by INSERT … SELECT.</summary>
    public const string DeriveClosure = """
        CREATE TABLE ancestor(x INTEGER NOT NULL, y INTEGER NOT NULL, PRIMARY KEY (x, y)) WITHOUT ROWID;
        INSERT INTO ancestor(x, y)
          WITH RECURSIVE a(x, y) AS (SELECT x, y FROM subclass UNION SELECT a.x, s.y FROM a JOIN subclass s ON s.x = a.y)
          SELECT x, y FROM a ORDER BY x, y;
        CREATE TABLE top_level(x INTEGER PRIMARY KEY);
        INSERT INTO top_level SELECT x FROM subclass WHERE y = 0 ORDER BY x;
        CREATE TABLE interested_in(c INTEGER NOT NULL, x INTEGER NOT NULL, PRIMARY KEY (c, x)) WITHOUT ROWID;
        INSERT INTO interested_in(c, x)
          SELECT c, x FROM interest UNION SELECT i.c, a.y FROM interest i JOIN ancestor a ON a.x = i.x ORDER BY 1, 2;
        CREATE INDEX interested_in_x ON interested_in(x, c);
        """;

    /// <summary>The rest of the derivation: the customer view and the 20 tag rules (runs after <see cref="DeriveClosure"/>).</summary>
    public const string DeriveTags = """
        CREATE VIEW customer AS SELECT c FROM feature WHERE f = 'age';
        CREATE TABLE tag(c INTEGER NOT NULL, t TEXT NOT NULL, PRIMARY KEY (c, t)) WITHOUT ROWID;
        INSERT OR IGNORE INTO tag SELECT a.c, 'high_value' FROM feature a JOIN feature b ON b.c = a.c AND b.f = 'orders_30d'
          WHERE a.f = 'spend_30d' AND a.v >= 5000 AND b.v >= 3;
        INSERT OR IGNORE INTO tag SELECT c, 'frequent_visitor' FROM feature WHERE f = 'visits_7d' AND v >= 20;
        INSERT OR IGNORE INTO tag SELECT c, 'lapsed' FROM feature WHERE f = 'days_since_last' AND v > 180;
        INSERT OR IGNORE INTO tag SELECT c, 'big_basket' FROM feature WHERE f = 'avg_basket' AND v >= 300;
        INSERT OR IGNORE INTO tag SELECT a.c, 'young_shopper' FROM feature a JOIN feature b ON b.c = a.c AND b.f = 'orders_30d'
          WHERE a.f = 'age' AND a.v < 25 AND b.v >= 2;
        INSERT OR IGNORE INTO tag SELECT c, 'senior' FROM feature WHERE f = 'age' AND v >= 65;
        INSERT OR IGNORE INTO tag SELECT c, 'pet_lover' FROM interested_in WHERE x = 1;
        INSERT OR IGNORE INTO tag SELECT i.c, 'parent_candidate' FROM interested_in i JOIN feature a ON a.c = i.c AND a.f = 'age'
          WHERE i.x = 537 AND a.v >= 25 AND a.v <= 40;
        INSERT OR IGNORE INTO tag SELECT i.c, 'gadget_fan' FROM interested_in i JOIN feature a ON a.c = i.c AND a.f = 'visits_7d'
          WHERE i.x = 222 AND a.v >= 10;
        INSERT OR IGNORE INTO tag SELECT i.c, 'home_maker' FROM interested_in i JOIN feature a ON a.c = i.c AND a.f = 'avg_basket'
          WHERE i.x = 536 AND a.v >= 100;
        INSERT OR IGNORE INTO tag SELECT i.c, 'sports_active' FROM interested_in i JOIN feature a ON a.c = i.c AND a.f = 'visits_7d'
          WHERE i.x = 988 AND a.v >= 5;
        INSERT OR IGNORE INTO tag SELECT a.c, 'deal_hunter' FROM feature a JOIN feature b ON b.c = a.c AND b.f = 'avg_basket'
          WHERE a.f = 'returns_90d' AND a.v >= 2 AND b.v < 50;
        INSERT OR IGNORE INTO tag SELECT a.c, 'dormant_vip' FROM feature a
          WHERE a.f = 'spend_30d' AND a.v >= 5000
            AND NOT EXISTS (SELECT 1 FROM feature b WHERE b.c = a.c AND b.f = 'visits_7d' AND b.v > 0);
        INSERT OR IGNORE INTO tag SELECT a.c, 'loyal' FROM feature a
          WHERE a.f = 'orders_30d' AND a.v >= 5
            AND NOT EXISTS (SELECT 1 FROM feature b WHERE b.c = a.c AND b.f = 'returns_90d' AND b.v >= 3);
        INSERT OR IGNORE INTO tag SELECT a.c, 'no_food' FROM feature a
          WHERE a.f = 'orders_30d' AND a.v >= 1
            AND NOT EXISTS (SELECT 1 FROM interested_in i WHERE i.c = a.c AND i.x = 412);
        INSERT OR IGNORE INTO tag SELECT g.c, 'broad_interests'
          FROM (SELECT c, count(*) AS n FROM interested_in GROUP BY c) g JOIN customer k ON k.c = g.c WHERE g.n >= 12;
        INSERT OR IGNORE INTO tag SELECT k.c, 'single_interest' FROM customer k
          WHERE (SELECT count(*) FROM interest i WHERE i.c = k.c) <= 1;
        INSERT OR IGNORE INTO tag SELECT g.c, 'multi_department'
          FROM (SELECT i.c, count(*) AS n FROM top_level t JOIN interested_in i ON i.x = t.x GROUP BY i.c) g
          JOIN customer k ON k.c = g.c WHERE g.n >= 3;
        INSERT OR IGNORE INTO tag SELECT k.c, 'engaged_spend' FROM customer k
          WHERE (SELECT coalesce(sum(f.v), 0) FROM feature f JOIN spend_feature s ON s.f = f.f WHERE f.c = k.c) >= 6000;
        INSERT OR IGNORE INTO tag SELECT k.c, 'risky' FROM customer k
          WHERE (SELECT coalesce(sum(f.v), 0) FROM feature f JOIN risk_feature r ON r.f = f.f WHERE f.c = k.c) >= 8;
        """;
}
