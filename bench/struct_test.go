package bench

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/driftwatch/driftwatch/bench/workload"
)

// structRecord is a workload record as a Go service that knows its schema
// decodes it with encoding/json: the contract's fields and the 40 features
// as typed fields (a JSON null leaves a field at its zero value).
// TestStructRecordMatchesWorkload keeps the features in step with package
// workload.
type structRecord struct {
	PredictionID string         `json:"prediction_id"`
	Model        string         `json:"model"`
	ModelVersion string         `json:"model_version"`
	Timestamp    string         `json:"timestamp"`
	Features     structFeatures `json:"features"`
	Prediction   float64        `json:"prediction"`
	Scores       struct {
		Click   float64 `json:"click"`
		NoClick float64 `json:"no_click"`
	} `json:"scores"`
	Label    *float64 `json:"label"`
	Segments struct {
		Gender  string `json:"gender"`
		AgeBand string `json:"age_band"`
	} `json:"segments"`
	Variant   string  `json:"variant"`
	LatencyMS float64 `json:"latency_ms"`
}

// structFeatures are the workload's features, in the order of its records.
type structFeatures struct {
	Age                float64 `json:"age"`
	BasketValue        float64 `json:"basket_value"`
	SessionSeconds     float64 `json:"session_seconds"`
	DaysSinceLastOrder float64 `json:"days_since_last_order"`
	PageViews7d        float64 `json:"page_views_7d"`
	Orders90d          float64 `json:"orders_90d"`
	CartItems          float64 `json:"cart_items"`
	AccountAgeDays     float64 `json:"account_age_days"`
	AvgOrderValue      float64 `json:"avg_order_value"`
	DiscountRate       float64 `json:"discount_rate"`
	HourOfDay          float64 `json:"hour_of_day"`
	DistanceToStoreKm  float64 `json:"distance_to_store_km"`
	SearchRank         float64 `json:"search_rank"`
	ItemPrice          float64 `json:"item_price"`
	ItemRating         float64 `json:"item_rating"`
	ItemReviews        float64 `json:"item_reviews"`
	ItemAgeDays        float64 `json:"item_age_days"`
	StockLevel         float64 `json:"stock_level"`
	CtrItem30d         float64 `json:"ctr_item_30d"`
	CtrUser30d         float64 `json:"ctr_user_30d"`
	EmbeddingSim       float64 `json:"embedding_sim"`
	PriceVsMedian      float64 `json:"price_vs_median"`
	ReturnsRate        float64 `json:"returns_rate"`
	WishlistItems      float64 `json:"wishlist_items"`
	ScrollDepth        float64 `json:"scroll_depth"`
	TimeOnItemS        float64 `json:"time_on_item_s"`
	CouponValue        float64 `json:"coupon_value"`
	LoyaltyPoints      float64 `json:"loyalty_points"`
	ShippingDays       float64 `json:"shipping_days"`
	TemperatureC       float64 `json:"temperature_c"`
	Country            string  `json:"country"`
	DeviceOs           string  `json:"device_os"`
	TrafficSource      string  `json:"traffic_source"`
	Category           string  `json:"category"`
	Brand              string  `json:"brand"`
	PaymentMethod      string  `json:"payment_method"`
	Membership         string  `json:"membership"`
	Language           string  `json:"language"`
	PageType           string  `json:"page_type"`
	ExperimentArm      string  `json:"experiment_arm"`
}

// TestStructRecordMatchesWorkload checks that structFeatures has exactly the
// workload's features with the workload's kinds, so that the encoding/json
// floor decodes every feature of every record.
func TestStructRecordMatchesWorkload(t *testing.T) {
	var want []string
	for _, n := range workload.NumericFeatures {
		want = append(want, n+" float64")
	}
	for _, n := range workload.CategoricalFeatures {
		want = append(want, n+" string")
	}
	var got []string
	st := reflect.TypeFor[structFeatures]()
	for i := range st.NumField() {
		f := st.Field(i)
		got = append(got, f.Tag.Get("json")+" "+f.Type.String())
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("structFeatures fields:\n%q\nwant the workload's:\n%q", got, want)
	}
	// And a record decodes into it with every feature set.
	line, err := workload.Records(workload.DefaultSeed, 1)
	if err != nil {
		t.Fatal(err)
	}
	var r structRecord
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatal(err)
	}
	if r.Model != workload.Model || r.Features.Country == "" || r.Features.LoyaltyPoints == 0 {
		t.Errorf("decoded %+v: want the model and its features", r)
	}
}
